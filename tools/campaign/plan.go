package main

import (
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// The operations of the fault campaign.
const (
	opPullLayout  = "pull to layout"
	opPullArchive = "pull to archive"
	opPush        = "push"
	opCopy        = "copy"
)

var operations = []string{opPullLayout, opPullArchive, opPush, opCopy}

// plan is one run, a function of its seed alone: the operation, the image,
// the registries, and how many requests faults may strike.
type plan struct {
	seed     uint64
	op       string
	image    *image
	src, dst *registry // src for pulls and copies, dst for pushes and copies
	faults   int
}

func (e *env) plan(seed uint64) plan {
	p := plan{seed: seed, op: operations[seed%4], image: e.images[(seed/4)%2], faults: 1 + int(seed/16%2)}
	a, b := e.regs[(seed/8)%2], e.regs[(seed/8+1)%2]
	p.place(a, b)
	return p
}

// place sets p's registries from a and b as its operation uses them: a
// push writes to a, a pull reads from a, and a copy goes from a to b.
func (p *plan) place(a, b *registry) {
	switch p.op {
	case opPush:
		p.dst = a
	case opCopy:
		p.src, p.dst = a, b
	default:
		p.src = a
	}
}

// where names the registries of the run, e.g. "distribution → hoist-serve".
func (p plan) where() string {
	switch {
	case p.src != nil && p.dst != nil:
		return p.src.name + " → " + p.dst.name
	case p.src != nil:
		return p.src.name
	}
	return p.dst.name
}

// faultRate is the chance that a request is struck, until the run's budget
// of faults is spent: high enough that the first requests of a run are
// likely to meet one.
const faultRate = 0.25

// proxies puts fault proxies in front of the run's registries, sharing
// one budget of p.faults strikes. Each fault's kind comes from the seed
// and the request's identity (testutil.Schedule), so a seed replays the
// same schedule whatever order concurrent requests arrive in, as long as
// the budget is not spent by a race between two candidates.
type proxies struct {
	src, dst *testutil.FaultProxy
	clean    []*testutil.FaultProxy // the FaultRedirect targets
}

func (p plan) proxies() (*proxies, error) {
	left := new(atomic.Int32)
	left.Store(int32(p.faults))
	out := &proxies{}
	front := func(r *registry, salt uint64) (*testutil.FaultProxy, error) {
		second, err := testutil.StartFaultProxy("http://" + r.host)
		if err != nil {
			return nil, err
		}
		out.clean = append(out.clean, second)
		f := testutil.Schedule(p.seed*1000+salt, faultRate, second.URL, testutil.FaultKinds...)
		match := f.Match
		f.Match = func(req *http.Request) bool { return match(req) && left.Add(-1) >= 0 }
		return testutil.StartFaultProxy("http://"+r.host, f)
	}
	var err error
	if p.src != nil {
		if out.src, err = front(p.src, 1); err != nil {
			return nil, err
		}
	}
	if p.dst != nil {
		if out.dst, err = front(p.dst, 2); err != nil {
			out.close()
			return nil, err
		}
	}
	return out, nil
}

// struck lists the faults that struck, as "KIND on METHOD PATH".
func (px *proxies) struck() []string {
	var out []string
	for _, fp := range []*testutil.FaultProxy{px.src, px.dst} {
		if fp == nil {
			continue
		}
		for _, r := range fp.Struck() {
			out = append(out, fmt.Sprintf("%s on %s %s", r.Kind, r.Method, shortPath(r.Path)))
		}
	}
	return out
}

func (px *proxies) close() {
	for _, fp := range append([]*testutil.FaultProxy{px.src, px.dst}, px.clean...) {
		if fp != nil {
			fp.Close()
		}
	}
}
