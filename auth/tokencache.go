package auth

import (
	"context"
	"sync"
	"time"
)

// cachedToken is a token with the realm, service and scopes it was issued
// for and its expiry by the transport's clock.
type cachedToken struct {
	realm, service string
	scopes         scopeSet
	token          string
	expires        time.Time
}

// valid reports whether t may still be used at now: tokens are renewed a
// tenth of their lifetime (at most 30 s) early, so that a request does not
// race the expiry.
func (t *cachedToken) valid(now time.Time, life time.Duration) bool {
	margin := min(life/10, 30*time.Second)
	return now.Before(t.expires.Add(-margin))
}

// tokenCache holds tokens per (realm, service, scope set) and makes
// concurrent requests for one key share a single fetch. Safe for
// concurrent use.
type tokenCache struct {
	mu      sync.Mutex
	tokens  map[string]*cachedEntry
	flights map[string]*flight
}

type cachedEntry struct {
	tok  cachedToken
	life time.Duration
}

type flight struct {
	done chan struct{}
	tok  string
	err  error
}

func cacheKey(realm, service string, ss scopeSet) string {
	return realm + "\x00" + service + "\x00" + ss.key()
}

// lookup returns a valid token for realm and service whose scopes cover
// want, preferring the exact scope set.
func (c *tokenCache) lookup(realm, service string, want scopeSet, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.tokens[cacheKey(realm, service, want)]; ok && e.tok.valid(now, e.life) {
		return e.tok.token, true
	}
	for k, e := range c.tokens {
		if !e.tok.valid(now, e.life) {
			delete(c.tokens, k)
			continue
		}
		if e.tok.realm == realm && e.tok.service == service && e.tok.scopes.covers(want) {
			return e.tok.token, true
		}
	}
	return "", false
}

// drop forgets a token the registry refused.
func (c *tokenCache) drop(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.tokens {
		if e.tok.token == token {
			delete(c.tokens, k)
		}
	}
}

// get returns a cached token covering want, or runs fetch once for all
// concurrent callers asking for the same key and caches its result.
func (c *tokenCache) get(ctx context.Context, realm, service string, want scopeSet, now func() time.Time, fetch func(context.Context) (issued, error)) (string, error) {
	key := cacheKey(realm, service, want)
	for {
		if tok, ok := c.lookup(realm, service, want, now()); ok {
			return tok, nil
		}
		c.mu.Lock()
		if f, ok := c.flights[key]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if f.err == nil {
				return f.tok, nil
			}
			if ctx.Err() == nil && isContextErr(f.err) {
				continue // the fetching caller gave up; this one has not
			}
			return "", f.err
		}
		if c.flights == nil {
			c.flights = map[string]*flight{}
		}
		f := &flight{done: make(chan struct{})}
		c.flights[key] = f
		c.mu.Unlock()

		start := now()
		is, err := fetch(ctx)
		c.mu.Lock()
		delete(c.flights, key)
		if err == nil {
			if c.tokens == nil {
				c.tokens = map[string]*cachedEntry{}
			}
			c.tokens[key] = &cachedEntry{
				tok:  cachedToken{realm: realm, service: service, scopes: want.clone(), token: is.token, expires: start.Add(is.lifetime)},
				life: is.lifetime,
			}
		}
		c.mu.Unlock()
		f.tok, f.err = is.token, err
		close(f.done)
		return is.token, err
	}
}
