package serve

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go/aws/credentials"
	driver "github.com/distribution/distribution/v3/registry/storage/driver"
	s3 "github.com/distribution/distribution/v3/registry/storage/driver/s3-aws"
)

// S3 is where an S3 bucket (AWS, or any S3-compatible store such as
// SeaweedFS or MinIO) keeps the registry, through distribution's S3
// storage driver. Several instances given the same S3 serve one registry.
type S3 struct {
	// Endpoint is the S3 API's URL (http://127.0.0.1:8333); "" for AWS
	// itself, which then needs Region. An http:// endpoint is spoken to
	// without TLS. Requests use path-style addressing on an endpoint.
	Endpoint string
	// Bucket is the bucket's name; it must exist.
	Bucket string
	// Region is the bucket's region; "" is us-east-1 on an endpoint.
	Region string
	// Prefix puts every key under this path in the bucket ("" for the
	// bucket's root).
	Prefix string
	// AccessKey, SecretKey and SessionToken are static credentials. With
	// none of them, credentials come from CredentialsFile, or else from
	// the AWS SDK's default chain: AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY, the shared credentials file
	// (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials) and AWS_PROFILE,
	// then an instance role.
	AccessKey, SecretKey, SessionToken string
	// CredentialsFile is an AWS shared credentials file (INI: [profile]
	// with aws_access_key_id, aws_secret_access_key) to read Profile
	// ("" is "default") from.
	CredentialsFile, Profile string
	// PartSize is the size of the parts uploads are sent to S3 in; 0 is
	// the driver's default, DefaultS3PartSize. At least MinS3PartSize.
	PartSize int64
	// Redirect answers a blob GET with a 307 to a presigned S3 URL, so
	// pulls fetch bytes from S3 directly (as distribution does unless its
	// storage.redirect.disable is set). Clients must reach Endpoint.
	Redirect bool
}

// MinS3PartSize is S3's smallest part of a multipart upload but the last,
// and so the OCI-Chunk-Min-Length a registry on S3 announces by default:
// a client sending smaller chunks makes every chunk rewrite the upload.
const MinS3PartSize = 5 << 20

// DefaultS3PartSize is the part size of uploads to S3 unless S3.PartSize
// says otherwise (the driver's default).
const DefaultS3PartSize = 2 * MinS3PartSize

// WithS3 keeps the registry in the bucket s names, through distribution's
// S3 storage driver (instead of WithRoot or WithDriver). Uploads save
// their hash state at every part boundary, so an instance that dies
// mid-upload costs the client at most one part, re-sent to any other
// instance; OCI-Chunk-Min-Length defaults to MinS3PartSize.
func WithS3(s S3) Option { return func(c *config) { c.s3 = &s } }

// partSize is the part size in force.
func (s *S3) partSize() int64 {
	if s.PartSize == 0 {
		return DefaultS3PartSize
	}
	return s.PartSize
}

// validate names the first field that cannot work.
func (s *S3) validate() error {
	switch {
	case s.Bucket == "":
		return errors.New("serve: WithS3 needs the bucket (S3.Bucket)")
	case s.Endpoint == "" && s.Region == "":
		return errors.New("serve: WithS3 on AWS needs the region (S3.Region), or an endpoint (S3.Endpoint) for another S3 store")
	case s.PartSize != 0 && s.PartSize < MinS3PartSize:
		return fmt.Errorf("serve: S3.PartSize %d is below S3's minimum part of %d bytes", s.PartSize, MinS3PartSize)
	case (s.AccessKey == "") != (s.SecretKey == ""):
		return errors.New("serve: S3.AccessKey and S3.SecretKey go together")
	case s.AccessKey != "" && s.CredentialsFile != "":
		return errors.New("serve: give static S3 keys (S3.AccessKey) or S3.CredentialsFile, not both")
	}
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("serve: S3.Endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", s.Endpoint)
		}
	}
	return nil
}

// String says where the registry is kept, for the start-up line.
func (s *S3) String() string {
	where := "s3://" + s.Bucket
	if p := strings.Trim(s.Prefix, "/"); p != "" {
		where += "/" + p
	}
	if s.Endpoint != "" {
		where += " at " + s.Endpoint
	}
	return where
}

// driver builds distribution's S3 driver for s.
func (s *S3) driver(ctx context.Context) (driver.StorageDriver, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	access, secret, token := s.AccessKey, s.SecretKey, s.SessionToken
	if s.CredentialsFile != "" {
		v, err := credentials.NewSharedCredentials(s.CredentialsFile, s.Profile).GetWithContext(ctx)
		if err != nil {
			profile := s.Profile
			if profile == "" {
				profile = "default"
			}
			return nil, fmt.Errorf("serve: S3 credentials file %s, profile %s: %w", s.CredentialsFile, profile, err)
		}
		access, secret, token = v.AccessKeyID, v.SecretAccessKey, v.SessionToken
	}
	region := s.Region
	if region == "" {
		region = "us-east-1"
	}
	params := s3.DriverParameters{
		AccessKey:                   access,
		SecretKey:                   secret,
		SessionToken:                token,
		Bucket:                      s.Bucket,
		Region:                      region,
		RegionEndpoint:              s.Endpoint,
		ForcePathStyle:              s.Endpoint != "",
		Secure:                      !strings.HasPrefix(s.Endpoint, "http://"),
		V4Auth:                      true,
		ChunkSize:                   int(s.partSize()),
		MultipartCopyChunkSize:      32 << 20, // the driver's defaults
		MultipartCopyMaxConcurrency: 100,
		MultipartCopyThresholdSize:  32 << 20,
		StorageClass:                "NONE", // the bucket's default, which every S3 store has
		ObjectACL:                   "private",
		UserAgent:                   "hoist-serve",
	}
	if p := strings.Trim(s.Prefix, "/"); p != "" {
		params.RootDirectory = "/" + p
	}
	d, err := s3.New(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("serve: S3 storage %s: %w", s, err)
	}
	return d, nil
}
