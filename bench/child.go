package main

import (
	"os/exec"
	"syscall"
	"time"
)

// child is a long-running process this program started (a registry,
// toxiproxy-server), stopped by its PID.
type child struct {
	cmd  *exec.Cmd
	done chan error // receives Wait's result once; stop puts it back
}

// start starts cmd and collects its exit in the background.
func startChild(cmd *exec.Cmd) (*child, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	return c, nil
}

// exited says whether the process has ended, and how.
func (c *child) exited() (done bool, err error) {
	select {
	case err := <-c.done:
		c.done <- err
		return true, err
	default:
		return false, nil
	}
}

// stop ends the process by its PID: SIGTERM, then SIGKILL after 5s. It is
// safe to call twice, and on nil.
func (c *child) stop() {
	if c == nil {
		return
	}
	if done, _ := c.exited(); done {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		c.done <- err
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		c.done <- <-c.done
	}
}
