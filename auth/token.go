package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hoist-dev/hoist/errcode"
	hoisttransport "github.com/hoist-dev/hoist/transport"
)

// defaultTokenLifetime applies when a token server does not say.
const defaultTokenLifetime = 60 * time.Second

// tokenRequest is one request to a token realm.
type tokenRequest struct {
	realm, service string
	scopes         []string
	cred           Credential
	offline        bool // ask for a refresh token, as a login does
}

// tokenResponse is the token server's answer (the distribution token spec
// and its OAuth2 form).
type tokenResponse struct {
	Token        string `json:"token"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// issued is a token with what it grants and until when.
type issued struct {
	token        string
	refreshToken string
	lifetime     time.Duration
}

// tokenClient fetches tokens through a base RoundTripper.
type tokenClient struct {
	base http.RoundTripper
	o    *options
}

// fetch asks the realm for a token: a POST of an OAuth2 refresh_token
// grant when the credential has an identity token, else a GET with Basic
// credentials or none. Secrets go over plain http only to allowed hosts.
func (tc tokenClient) fetch(ctx context.Context, tr tokenRequest) (issued, error) {
	u, err := url.Parse(tr.realm)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return issued{}, fmt.Errorf("the registry's token realm %q is not an http(s) URL", tr.realm)
	}
	hasSecret := tr.cred.IdentityToken != "" || tr.cred.Password != ""
	if hasSecret && u.Scheme == "http" && !tc.o.plainHTTP(u.Host) {
		return issued{}, fmt.Errorf("token realm %s: %w to a host that is not on loopback; use an https realm, or mark %s insecure", errcode.RedactURL(u), ErrPlainHTTP, u.Host)
	}
	var req *http.Request
	if tr.cred.IdentityToken != "" {
		form := url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {tr.cred.IdentityToken},
			"client_id":     {tc.o.clientID},
		}
		if tr.service != "" {
			form.Set("service", tr.service)
		}
		if len(tr.scopes) > 0 {
			form.Set("scope", strings.Join(tr.scopes, " "))
		}
		if tr.offline {
			form.Set("access_type", "offline")
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return issued{}, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		q := u.Query()
		if tr.service != "" {
			q.Set("service", tr.service)
		}
		for _, s := range tr.scopes {
			q.Add("scope", s)
		}
		if tr.cred.Username != "" {
			q.Set("account", tr.cred.Username)
		}
		if tr.offline {
			q.Set("offline_token", "true")
			q.Set("client_id", tc.o.clientID)
		}
		u.RawQuery = q.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return issued{}, err
		}
		if tr.cred.Password != "" {
			req.SetBasicAuth(tr.cred.Username, tr.cred.Password)
		}
	}
	req.Header.Set("Accept", "application/json")
	client := &http.Client{Transport: tc.base, CheckRedirect: safeRedirect}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error // it would print the realm URL again, unredacted
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return issued{}, fmt.Errorf("token realm %s: %w", errcode.RedactURL(u), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, tc.o.tokenLimit+1))
	if err != nil {
		return issued{}, fmt.Errorf("token realm %s: reading the answer: %w", errcode.RedactURL(u), err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := snippet(body)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return issued{}, fmt.Errorf("token realm %s answered %s for %s: %w: %s", errcode.RedactURL(u), resp.Status, tr.cred.String(), ErrBadCredentials, msg)
		}
		return issued{}, fmt.Errorf("token realm %s answered %s: %s", errcode.RedactURL(u), resp.Status, msg)
	}
	if int64(len(body)) > tc.o.tokenLimit {
		return issued{}, fmt.Errorf("token realm %s: the answer is larger than %d bytes", errcode.RedactURL(u), tc.o.tokenLimit)
	}
	var tresp tokenResponse
	if err := json.Unmarshal(body, &tresp); err != nil {
		return issued{}, fmt.Errorf("token realm %s: the answer is not a token document: %v", errcode.RedactURL(u), err)
	}
	tok := tresp.Token
	if tok == "" {
		tok = tresp.AccessToken
	}
	if tok == "" {
		return issued{}, fmt.Errorf("token realm %s: the answer has neither \"token\" nor \"access_token\"", errcode.RedactURL(u))
	}
	life := time.Duration(tresp.ExpiresIn) * time.Second
	if tresp.ExpiresIn <= 0 {
		life = defaultTokenLifetime
	}
	return issued{token: tok, refreshToken: tresp.RefreshToken, lifetime: life}, nil
}

// safeRedirect follows at most 10 redirects, never from https to http,
// never a POST (its form carries a refresh token) to another origin, and
// drops Authorization when the origin changes.
func safeRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	first, prev := hoisttransport.HopURL(req, via, 0), hoisttransport.HopURL(req, via, len(via)-1)
	if prev.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("refusing a redirect from https to %s", errcode.RedactURL(req.URL))
	}
	if !hoisttransport.SameOrigin(req.URL, first) {
		if req.Method == http.MethodPost {
			return fmt.Errorf("refusing to send a POST (it carries a secret) to another host (%s)", errcode.RedactURL(req.URL))
		}
		req.Header.Del("Authorization")
	}
	return nil
}

// snippet is the start of an error body, secrets redacted, for messages.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, "{") {
		s = string(RedactJSON([]byte(s)))
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		return "no message"
	}
	return s
}
