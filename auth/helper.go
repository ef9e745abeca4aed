package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// tokenUsername is the username docker's helpers use for an identity token.
const tokenUsername = "<token>"

// maxHelperOutput caps what hoist reads from a helper.
const maxHelperOutput = 1 << 20

// errHelperNoEntry is the helper protocol's "credentials not found".
var errHelperNoEntry = errors.New("credentials not found")

// helper runs docker-credential-NAME with the docker credential helper
// protocol: the action as the only argument, the request on stdin, the
// answer (or an error message) on stdout.
type helper struct {
	name string
	why  string // where it was configured, for errors
}

func (h helper) binary() string { return "docker-credential-" + h.name }

// helperCreds is the helper protocol's credentials document.
type helperCreds struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

func (h helper) run(ctx context.Context, action string, stdin []byte) ([]byte, error) {
	path, err := exec.LookPath(h.binary())
	if err != nil {
		return nil, fmt.Errorf("credential helper %s (set by %s) is not installed or not in PATH: install it, or remove that setting", h.binary(), h.why)
	}
	var stdout, stderr capBuffer
	cmd := exec.CommandContext(ctx, path, action)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("credential helper %s %s: %w", h.binary(), action, ctx.Err())
	}
	if err != nil {
		msg := strings.TrimSpace(stdout.String())
		if msg == "" {
			msg = strings.TrimSpace(stderr.String())
		}
		if strings.Contains(strings.ToLower(msg), "credentials not found") {
			return nil, errHelperNoEntry
		}
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		if msg == "" {
			msg = "no message"
		}
		return nil, fmt.Errorf("credential helper %s %s failed (%v): %s", h.binary(), action, err, msg)
	}
	if stdout.over {
		return nil, fmt.Errorf("credential helper %s %s wrote more than %d bytes", h.binary(), action, maxHelperOutput)
	}
	return stdout.Bytes(), nil
}

// get returns the helper's credential for serverURL, or the zero
// Credential when the helper has none.
func (h helper) get(ctx context.Context, serverURL string) (Credential, error) {
	out, err := h.run(ctx, "get", []byte(serverURL))
	if errors.Is(err, errHelperNoEntry) {
		return Credential{}, nil
	}
	if err != nil {
		return Credential{}, err
	}
	var hc helperCreds
	if err := json.Unmarshal(out, &hc); err != nil {
		return Credential{}, fmt.Errorf("credential helper %s get %s: its output is not the JSON credentials document (%v); is it a docker credential helper?", h.binary(), serverURL, err)
	}
	if hc.Username == tokenUsername {
		return Credential{IdentityToken: hc.Secret}, nil
	}
	if hc.Secret == "" && hc.Username != "" {
		return Credential{}, fmt.Errorf("credential helper %s get %s: answered the username %q without a secret", h.binary(), serverURL, hc.Username)
	}
	return Credential{Username: hc.Username, Password: hc.Secret}, nil
}

// store saves c under serverURL.
func (h helper) store(ctx context.Context, serverURL string, c Credential) error {
	hc := helperCreds{ServerURL: serverURL, Username: c.Username, Secret: c.Password}
	switch {
	case c.RegistryToken != "":
		return fmt.Errorf("credential helper %s cannot hold a registry token for %s; remove %s to keep it in config.json", h.binary(), serverURL, h.why)
	case c.IdentityToken != "":
		hc.Username, hc.Secret = tokenUsername, c.IdentityToken
	}
	in, _ := json.Marshal(hc) // strings always marshal
	_, err := h.run(ctx, "store", in)
	if errors.Is(err, errHelperNoEntry) {
		return fmt.Errorf("credential helper %s store %s: %w", h.binary(), serverURL, err)
	}
	return err
}

// erase removes serverURL and reports whether the helper had it.
func (h helper) erase(ctx context.Context, serverURL string) (bool, error) {
	_, err := h.run(ctx, "erase", []byte(serverURL))
	if errors.Is(err, errHelperNoEntry) {
		return false, nil
	}
	return err == nil, err
}

// capBuffer keeps the first maxHelperOutput bytes written to it and
// remembers whether more came.
type capBuffer struct {
	bytes.Buffer
	over bool
}

func (b *capBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := maxHelperOutput - b.Len(); len(p) > room {
		p, b.over = p[:max(room, 0)], true
	}
	b.Buffer.Write(p)
	return n, nil
}
