// dockerfile-check parses a Dockerfile with BuildKit's own Dockerfile
// frontend packages: the build checks exactly as `docker build --check` runs
// them (BuildKit's DockerfileLint, every stage, default rules: casing, JSON-form CMD/ENTRYPOINT, legacy ENV form,
// reserved or duplicate stage names, relative WORKDIR, secrets in ARG/ENV,
// undefined variables, ...), with base images not looked up in a registry;
// and the parsed stages. It prints a JSON summary of the stages on stdout, and exits 1 when
// the file does not parse or any check fires (each on stderr).
//
//	dockerfile-check Dockerfile
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// offlineResolver answers BuildKit's base-image metadata lookups with an empty
// linux/amd64 image config instead of asking a registry: the checks need the
// Dockerfile, not the images.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := []byte(`{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}`)
	return ref, digest.FromBytes(cfg), cfg, nil
}

type stage struct {
	Name         string            `json:"name"`
	Base         string            `json:"base"`
	User         string            `json:"user,omitempty"`
	Workdir      string            `json:"workdir,omitempty"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	Healthcheck  []string          `json:"healthcheck,omitempty"`
	Expose       []string          `json:"expose,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
	Args         map[string]string `json:"args,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	CopyFrom     []string          `json:"copyFrom,omitempty"`
	Instructions []string          `json:"instructions"`
}

type summary struct {
	MetaArgs map[string]string `json:"metaArgs"`
	Stages   []stage           `json:"stages"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-check Dockerfile")
		os.Exit(2)
	}
	dt, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerfile-check:", err)
		os.Exit(1)
	}
	// 1. the build checks, exactly as `docker build --check` runs them
	// (BuildKit's DockerfileLint over every stage; experimental checks off)
	var problems []string
	ctx := context.Background()
	src := llb.Scratch()
	sourceMap := llb.NewSourceMap(&src, os.Args[1], "Dockerfile", dt)
	if sourceMap.Definition, err = src.Marshal(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dockerfile-check:", err)
		os.Exit(1)
	}
	results, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		SourceMap:      sourceMap,
		MetaResolver:   offlineResolver{},
		TargetPlatform: &ocispecs.Platform{OS: "linux", Architecture: "amd64"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerfile-check: lint:", err)
		os.Exit(1)
	}
	if results.Error != nil {
		problems = append(problems, "error: "+results.Error.Message)
	}
	for _, w := range results.Warnings {
		line := int32(0)
		if len(w.Location.Ranges) > 0 {
			line = w.Location.Ranges[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("line %d: %s: %s", line, w.RuleName, w.Detail))
	}
	// 2. the parsed stages, for the caller's own assertions
	res, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerfile-check: parse:", err)
		os.Exit(1)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerfile-check: instructions:", err)
		os.Exit(1)
	}
	out := summary{MetaArgs: map[string]string{}}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v := ""
			if kv.Value != nil {
				v = *kv.Value
			}
			out.MetaArgs[kv.Key] = v
		}
	}
	for _, s := range stages {
		st := stage{Name: s.Name, Base: s.BaseName, Env: map[string]string{}, Args: map[string]string{}, Labels: map[string]string{}}
		for _, c := range s.Commands {
			st.Instructions = append(st.Instructions, strings.ToUpper(c.Name()))
			switch c := c.(type) {
			case *instructions.UserCommand:
				st.User = c.User
			case *instructions.WorkdirCommand:
				st.Workdir = c.Path
			case *instructions.EntrypointCommand:
				st.Entrypoint = execForm(c.CmdLine, c.PrependShell)
			case *instructions.CmdCommand:
				st.Cmd = execForm(c.CmdLine, c.PrependShell)
			case *instructions.HealthCheckCommand:
				st.Healthcheck = c.Health.Test
			case *instructions.ExposeCommand:
				st.Expose = append(st.Expose, c.Ports...)
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					st.Env[kv.Key] = kv.Value
				}
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					v := ""
					if kv.Value != nil {
						v = *kv.Value
					}
					st.Args[kv.Key] = v
				}
			case *instructions.LabelCommand:
				for _, kv := range c.Labels {
					st.Labels[kv.Key] = kv.Value
				}
			case *instructions.CopyCommand:
				if c.From != "" {
					st.CopyFrom = append(st.CopyFrom, c.From)
				}
			}
		}
		out.Stages = append(out.Stages, st)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "dockerfile-check:", err)
		os.Exit(1)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "dockerfile-check:", p)
		}
		os.Exit(1)
	}
}

// execForm returns the command line; a shell-form line is marked by a leading
// "/bin/sh -c" as the image config would record it.
func execForm(cmd []string, shell bool) []string {
	if shell {
		return append([]string{"/bin/sh", "-c"}, cmd...)
	}
	return cmd
}
