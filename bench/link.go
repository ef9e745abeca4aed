package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// linkParams is the link to the source as the tools see it, measured
// through the same proxies: the numbers the computed floors use.
type linkParams struct {
	rtt      time.Duration // a request and its answer on an open connection (median of 5)
	firstRTT time.Duration // the same on a new connection
	rate     float64       // bytes/s over one connection
	aggRate  float64       // bytes/s over n connections at once
	n        int
	probe    int64 // bytes the one-connection probe read; each of the n read 3 times that
	// capped: the profile caps each connection, so n connections get n
	// times the rate and aggRate (noisy on a busy machine) is not used.
	capped bool
}

func (l linkParams) String() string {
	return fmt.Sprintf("round trip %s (first on a new connection %s), one connection %.1f MB/s, %d connections together %.1f MB/s (%.1f MiB probes)",
		msText(l.rtt), msText(l.firstRTT), l.rate/1e6, l.n, l.aggRate/1e6, float64(l.probe)/mib)
}

func msText(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// measureLink times small requests for the round trip, then ranged reads
// of blob for the rate of one connection and of n at once. The first rate
// probe is sized to take about a second, the n-connection one three
// (at most the whole blob each).
func measureLink(ctx context.Context, addr, repo string, blob blobRef, n int, capped bool) (linkParams, error) {
	l := linkParams{n: n, capped: capped}
	tr := &http.Transport{MaxIdleConnsPerHost: n + 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	ping := func() (time.Duration, error) {
		start := time.Now()
		err := get(ctx, client, "http://"+addr+"/v2/", "", 1<<10)
		return time.Since(start), err
	}
	var err error
	if l.firstRTT, err = ping(); err != nil {
		return l, err
	}
	var rtts []time.Duration
	for range 5 {
		d, err := ping()
		if err != nil {
			return l, err
		}
		rtts = append(rtts, d)
	}
	l.rtt = median(rtts)

	url := blobURL(addr, repo, blob.digest)
	read := func(size int64) (time.Duration, error) {
		start := time.Now()
		err := get(ctx, client, url, fmt.Sprintf("bytes=0-%d", size-1), size)
		return time.Since(start), err
	}
	rateOf := func(bytes int64, d time.Duration) float64 {
		return float64(bytes) / max(d-l.rtt, time.Millisecond).Seconds()
	}
	first := min(blob.size, mib)
	d, err := read(first)
	if err != nil {
		return l, err
	}
	l.probe = min(blob.size, max(first, int64(rateOf(first, d))))
	if d, err = read(l.probe); err != nil {
		return l, err
	}
	l.rate = rateOf(l.probe, d)

	// Three times longer, so the start of n fresh connections weighs less.
	each := min(blob.size, 3*l.probe)
	start := time.Now()
	if err := parallel(n, func(int) error {
		return get(ctx, client, url, fmt.Sprintf("bytes=0-%d", each-1), each)
	}); err != nil {
		return l, err
	}
	l.aggRate = rateOf(int64(n)*each, time.Since(start))
	return l, nil
}

// get reads url to its end; with rng, it wants a 206 of exactly want
// bytes, else a 200 of at most want bytes.
func get(ctx context.Context, c *http.Client, url, rng string, want int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, want+1))
	if err != nil {
		return err
	}
	switch {
	case rng != "" && (resp.StatusCode != http.StatusPartialContent || n != want):
		return fmt.Errorf("GET %s with Range %s: %s, %d bytes; want 206 and %d bytes", url, rng, resp.Status, n, want)
	case rng == "" && (resp.StatusCode != http.StatusOK || n > want):
		return fmt.Errorf("GET %s: %s, %d bytes", url, resp.Status, n)
	}
	return nil
}
