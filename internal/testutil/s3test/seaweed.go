// Package s3test starts a SeaweedFS S3 server for the S3 tests and
// benchmarks of hoist serve. It lives apart from package testutil so
// that the AWS SDK it needs is linked only where S3 is used.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/s3"

	"github.com/hoist-dev/hoist/internal/testutil"
)

// SeaweedVersion is the SeaweedFS module version .ci/tools builds into
// .tools/bin/weed-VERSION (a test keeps the two in step).
const SeaweedVersion = "v0.0.0-20261109003541-7506e5f91cd6"

// S3Server is a SeaweedFS S3 server on 127.0.0.1 with one bucket and one
// static identity.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	PID       int
	client    *s3.S3
}

// StartSeaweed starts `weed mini` (master, volume, filer and S3 in one
// process) under a temporary directory with bucket created, every
// listener on 127.0.0.1 at a port chosen here, telemetry, the admin UI,
// WebDAV and the Iceberg and Lance catalogs off. It fails the test if the
// process listens anywhere but loopback. It is stopped, by PID, when the
// test ends.
func StartSeaweed(t testing.TB, bucket string) *S3Server {
	t.Helper()
	bin := testutil.NeedBinary(t, "weed-"+SeaweedVersion, "run .ci/tools: it builds SeaweedFS into .tools/bin")
	srv, stop, err := LaunchSeaweed(bin, t.TempDir(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	addrs, err := testutil.LoopbackListeners(srv.PID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SeaweedFS (pid %d) S3 at %s; it listens on %s", srv.PID, srv.Endpoint, strings.Join(addrs, " "))
	return srv
}

// LaunchSeaweed is StartSeaweed for programs that are not tests (the
// benchmark): bin is the weed binary, dir its data directory. It returns
// once the bucket answers, with the function that stops the process (by
// its PID, its process group with it).
func LaunchSeaweed(bin, dir, bucket string) (*S3Server, func(), error) {
	srv := &S3Server{Bucket: bucket, Region: "us-east-1", AccessKey: "hoist-test-key", SecretKey: "hoist-test-secret-0123456789"}
	cfg := fmt.Sprintf(`{"identities":[{"name":"hoist","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","List","Tagging","Write"]}]}`, srv.AccessKey, srv.SecretKey)
	cfgFile := filepath.Join(dir, "s3.json")
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, nil, err
	}
	var perr error
	port := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			perr = err
			return "0"
		}
		defer l.Close()
		return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	}
	s3Port := port()
	args := []string{"mini",
		"-dir=" + data,
		"-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.telemetry=false",
		"-master.port=" + port(), "-master.port.grpc=" + port(),
		"-volume.port=" + port(), "-volume.port.grpc=" + port(),
		"-filer.port=" + port(), "-filer.port.grpc=" + port(),
		"-s3.port=" + s3Port, "-s3.port.grpc=" + port(),
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-webdav=false",
		"-admin.ui=false", "-admin.port=" + port(), "-admin.port.grpc=" + port(), "-admin.port.legacy=0",
		"-s3.config=" + cfgFile,
		"-bucket=" + bucket,
	}
	if perr != nil {
		return nil, nil, perr
	}
	cmd := exec.Command(bin, args...)
	out := &testutil.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	srv.PID = cmd.Process.Pid
	srv.Endpoint = "http://127.0.0.1:" + s3Port
	sess, err := session.NewSession(aws.NewConfig().
		WithEndpoint(srv.Endpoint).WithRegion(srv.Region).WithS3ForcePathStyle(true).WithDisableSSL(true).
		WithCredentials(credentials.NewStaticCredentials(srv.AccessKey, srv.SecretKey, "")))
	if err != nil {
		stop()
		return nil, nil, err
	}
	srv.client = s3.New(sess)
	// The bucket is created after the S3 port opens: wait for it.
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := srv.client.HeadBucketWithContext(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
		cancel()
		if err == nil {
			break
		}
		select {
		case <-done:
			return nil, nil, fmt.Errorf("weed mini exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("SeaweedFS did not serve bucket %s within 60s: %v\n%s", bucket, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, err := testutil.LoopbackListeners(srv.PID); err != nil {
		stop()
		return nil, nil, err
	}
	return srv, stop, nil
}

// Keys lists every key under prefix in the bucket, straight from the S3
// API (not through any storage driver).
func (s *S3Server) Keys(t testing.TB, prefix string) []string {
	t.Helper()
	var keys []string
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)}
	for range 10000 {
		out, err := s.client.ListObjectsV2(in)
		if err != nil {
			t.Fatalf("listing %s/%s: %v", s.Bucket, prefix, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		if out.IsTruncated == nil || !*out.IsTruncated {
			return keys
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	t.Fatalf("listing %s/%s: more than 10000 pages", s.Bucket, prefix)
	return nil
}

// MultipartUploads lists the unfinished multipart uploads under prefix.
func (s *S3Server) MultipartUploads(t testing.TB, prefix string) []string {
	t.Helper()
	out, err := s.client.ListMultipartUploads(&s3.ListMultipartUploadsInput{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatalf("listing multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, *u.Key)
	}
	return keys
}

// Env returns the environment variables the AWS SDK reads this server's
// credentials from.
func (s *S3Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey}
}

// Delete removes key from the bucket, straight through the S3 API.
func (s *S3Server) Delete(t testing.TB, key string) {
	t.Helper()
	if _, err := s.client.DeleteObject(&s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("deleting %s: %v", key, err)
	}
}
