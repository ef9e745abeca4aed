package servecli

import "github.com/sirupsen/logrus"

// quietDriverLogs raises the level of distribution's logger, which its
// storage drivers log through, to warnings. At info level it speaks of
// ordinary events (a path deleted under a walk while uploads finish),
// in its own format, on the same stream as `hoist serve gc` and the
// access log; warnings and errors still go to stderr.
func quietDriverLogs() { logrus.SetLevel(logrus.WarnLevel) }
