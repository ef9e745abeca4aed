package legacy

import (
	"encoding/json"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// v1Meta is what conversion reads from a v1 image JSON. Everything else
// in it (container, container_config beyond Cmd, docker_version, Size) is
// not carried into OCI.
type v1Meta struct {
	ID           string          `json:"id"`
	Parent       string          `json:"parent"`
	Comment      string          `json:"comment"`
	Created      string          `json:"created"`
	Author       string          `json:"author"`
	Architecture string          `json:"architecture"`
	OS           string          `json:"os"`
	Variant      string          `json:"variant"`
	Config       json.RawMessage `json:"config"`
	// ThrowAway is docker's mark of an image that adds no layer (schema 1
	// v1Compatibility). Only an explicit false matters to ToOCI: the layer
	// is kept even if its tar is empty.
	ThrowAway       *bool `json:"throwaway"`
	ContainerConfig struct {
		Cmd json.RawMessage `json:"Cmd"`
	} `json:"container_config"`
}

// created returns the image's creation time, nil when absent or not
// RFC 3339.
func (m *v1Meta) created() *time.Time {
	t, err := time.Parse(time.RFC3339Nano, m.Created)
	if err != nil {
		return nil
	}
	return &t
}

// createdBy returns the command that built the image, as docker shows it
// in history: container_config.Cmd joined with spaces.
func (m *v1Meta) createdBy() string {
	return strings.Join(strSlice(m.ContainerConfig.Cmd), " ")
}

// strSlice decodes a command written as a JSON list of strings or, by very
// old images, as one string; anything else is nil.
func strSlice(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}

// imageConfig maps a v1 "config" object (docker's container config) onto
// the OCI image config. Field names match case-insensitively, as
// encoding/json does (which also picks the last of two spellings of one
// name, so the result never depends on map order); a field that does not
// decode is left out rather than failing the conversion of an old image.
func imageConfig(raw json.RawMessage) ocispec.ImageConfig {
	var cfg ocispec.ImageConfig
	var fields struct {
		User, ExposedPorts, Env, Entrypoint, Cmd, Volumes json.RawMessage
		WorkingDir, Labels, StopSignal, ArgsEscaped       json.RawMessage
	}
	if json.Unmarshal(raw, &fields) != nil {
		return cfg
	}
	decodeField(fields.User, &cfg.User)
	decodeField(fields.ExposedPorts, &cfg.ExposedPorts)
	decodeField(fields.Env, &cfg.Env)
	cfg.Entrypoint = strSlice(fields.Entrypoint)
	cfg.Cmd = strSlice(fields.Cmd)
	decodeField(fields.Volumes, &cfg.Volumes)
	decodeField(fields.WorkingDir, &cfg.WorkingDir)
	decodeField(fields.Labels, &cfg.Labels)
	decodeField(fields.StopSignal, &cfg.StopSignal)
	decodeField(fields.ArgsEscaped, &cfg.ArgsEscaped) //nolint:staticcheck // kept for Windows images, as docker does
	return cfg
}

// decodeField decodes raw into *v only when all of it decodes.
func decodeField[T any](raw json.RawMessage, v *T) {
	if raw == nil {
		return
	}
	var tmp T
	if json.Unmarshal(raw, &tmp) == nil {
		*v = tmp
	}
}
