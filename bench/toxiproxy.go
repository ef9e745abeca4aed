package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"time"
)

// toxiproxy is a toxiproxy-server this program started on loopback. It
// shapes TCP connections: each proxy listens on its own loopback port,
// forwards to one registry and applies the profile's toxics to every
// connection separately.
type toxiproxy struct {
	api  string // http://127.0.0.1:PORT
	proc *child
	log  string
	n    atomic.Int64 // names proxies uniquely
}

// startToxiproxy starts bin on a free loopback port, logging to dir, and
// waits until its API answers. Stop it with stop.
func startToxiproxy(ctx context.Context, bin, dir string) (*toxiproxy, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	t := &toxiproxy{api: fmt.Sprintf("http://127.0.0.1:%d", port), log: filepath.Join(dir, "toxiproxy.log")}
	logf, err := os.Create(t.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", fmt.Sprint(port))
	// Per-connection log lines would cost CPU beside the tools.
	cmd.Env = append(os.Environ(), "LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = logf, logf
	if t.proc, err = startChild(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w (run .ci/tools)", bin, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var v string
		if err := t.call(ctx, http.MethodGet, "/version", nil, &v); err == nil {
			return t, nil
		}
		if done, err := t.proc.exited(); done {
			return nil, fmt.Errorf("toxiproxy-server exited: %v; see %s", err, t.log)
		}
		select {
		case <-ctx.Done():
			t.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.stop()
			return nil, fmt.Errorf("toxiproxy-server did not answer on %s within 15s; see %s", t.api, t.log)
		}
	}
}

// call does one API request with a JSON body (nil: none) and decodes a
// JSON answer into out (nil: discard it).
func (t *toxiproxy) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, t.api+path, rd)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("toxiproxy %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if s, ok := out.(*string); ok {
		*s = string(b)
		return nil
	}
	return json.Unmarshal(b, out)
}

// shaped is one toxiproxy proxy in front of an upstream address.
type shaped struct {
	t    *toxiproxy
	name string
	addr string // where clients connect: 127.0.0.1:PORT
}

// proxy creates a proxy to upstream with p's toxics on both directions of
// every connection, listening on a free loopback port.
func (t *toxiproxy) proxy(ctx context.Context, p profile, upstream string) (*shaped, error) {
	name := fmt.Sprintf("%s-%d", p.name, t.n.Add(1))
	var created struct {
		Listen string `json:"listen"`
	}
	if err := t.call(ctx, http.MethodPost, "/proxies", map[string]any{
		"name": name, "listen": "127.0.0.1:0", "upstream": upstream, "enabled": true,
	}, &created); err != nil {
		return nil, err
	}
	s := &shaped{t: t, name: name, addr: created.Listen}
	for _, stream := range []string{"upstream", "downstream"} {
		toxics := []map[string]any{}
		if p.latency > 0 {
			toxics = append(toxics, map[string]any{"type": "latency", "attributes": map[string]any{"latency": p.latency.Milliseconds()}})
		}
		if p.rate > 0 {
			// toxiproxy's rate is in KB/s of 1000 bytes.
			toxics = append(toxics, map[string]any{"type": "bandwidth", "attributes": map[string]any{"rate": p.rate / 1000}})
		}
		for _, tx := range toxics {
			tx["stream"] = stream
			tx["toxicity"] = 1.0
			tx["name"] = fmt.Sprintf("%s_%s", tx["type"], stream)
			if err := t.call(ctx, http.MethodPost, "/proxies/"+name+"/toxics", tx, nil); err != nil {
				s.close(ctx)
				return nil, err
			}
		}
	}
	return s, nil
}

// close deletes the proxy; its open connections are cut.
func (s *shaped) close(ctx context.Context) {
	if s == nil {
		return
	}
	_ = s.t.call(context.WithoutCancel(ctx), http.MethodDelete, "/proxies/"+s.name, nil, nil)
}

// stop ends toxiproxy-server by its PID. It is safe to call on nil.
func (t *toxiproxy) stop() {
	if t != nil {
		t.proc.stop()
	}
}
