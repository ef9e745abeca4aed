package server

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Several clients pushing the same images at once, to different
// repositories, as the v1 client would: an image that already exists is
// skipped. Whatever the interleaving, nothing fails on the server's side and
// every repository pulls back intact.
func TestV1ConcurrentPushes(t *testing.T) {
	e := newV1Env(t)
	chain := testChain(t)
	const clients = 4

	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pushRacing(e, fmt.Sprintf("team%d/app", i), chain)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range clients {
		e.pull(fmt.Sprintf("team%d/app", i), "latest", chain)
	}
}

// pushRacing pushes chain to name, retrying an image whose upload another
// client restarted, and skipping one another client completed. It may not
// call t.Fatal, as it runs in its own goroutine.
func pushRacing(e *v1Env, name string, chain []testImage) error {
	do := func(method, path string, body []byte, opts ...reqOpt) (int, error) {
		req, err := http.NewRequest(method, e.ts.URL+"/v1/"+path, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		for _, o := range opts {
			o(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return 0, fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
		}
		return resp.StatusCode, nil
	}
	var announce bytes.Buffer
	announce.WriteString("[")
	for i, img := range chain {
		if i > 0 {
			announce.WriteString(",")
		}
		fmt.Fprintf(&announce, `{"id":%q}`, img.id)
	}
	announce.WriteString("]")
	if st, err := do(http.MethodPut, "repositories/"+name+"/", announce.Bytes()); err != nil || st != http.StatusCreated {
		return fmt.Errorf("%s: announce answered %d, %v", name, st, err)
	}
	for _, img := range chain {
		for attempt := 0; ; attempt++ {
			if attempt == 20 {
				return fmt.Errorf("%s: image %s never completed", name, img.id)
			}
			st, err := do(http.MethodPut, "images/"+img.id+"/json", img.json)
			if err != nil {
				return err
			}
			if st == http.StatusConflict {
				break // already exists
			}
			if st, err = do(http.MethodPut, "images/"+img.id+"/layer", img.layer); err != nil {
				return err
			}
			if st != http.StatusOK {
				continue
			}
			st, err = do(http.MethodPut, "images/"+img.id+"/checksum", nil,
				withHeader("X-Docker-Checksum", img.tarsum), withHeader("X-Docker-Checksum-Payload", img.payload))
			if err != nil {
				return err
			}
			if st == http.StatusOK || st == http.StatusConflict {
				break
			}
		}
	}
	top := chain[len(chain)-1]
	st, err := do(http.MethodPut, "repositories/"+name+"/tags/latest", []byte(`"`+top.id+`"`))
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("%s: tagging answered %d", name, st)
	}
	var closing bytes.Buffer
	closing.WriteString("[")
	for i, img := range chain {
		if i > 0 {
			closing.WriteString(",")
		}
		fmt.Fprintf(&closing, `{"id":%q,"checksum":%q}`, img.id, img.tarsum)
	}
	closing.WriteString("]")
	if st, err = do(http.MethodPut, "repositories/"+name+"/images", closing.Bytes()); err != nil {
		return err
	}
	if st != http.StatusNoContent {
		return fmt.Errorf("%s: closing answered %d", name, st)
	}
	return nil
}
