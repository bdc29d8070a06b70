// compose-check loads a Compose file with compose-go, the Compose
// Specification's reference library (the loader `docker compose` itself
// uses): schema validation against the Compose Specification JSON schema,
// interpolation, normalization and the consistency checks (unknown services
// in depends_on, undefined networks/volumes/secrets, ...), with the .env file
// and COMPOSE_PROFILES handled as `docker compose` does. On success it prints
// the resolved project as JSON on stdout; on failure the loader's error on
// stderr and exit status 1.
//
//	compose-check [-profile NAME]... [-env NAME=VALUE]... compose.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var profiles, env multi
	name := flag.String("project-name", "recommender", "Compose project name")
	flag.Var(&profiles, "profile", "enable a profile (repeatable; default: COMPOSE_PROFILES from -env or the .env file)")
	flag.Var(&env, "env", "NAME=VALUE as if set in the shell (repeatable; the process environment is not used, so results do not depend on the caller's)")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-profile NAME]... [-env NAME=VALUE]... compose.yaml [override.yaml...]")
		os.Exit(2)
	}
	files := flag.Args()
	opts, err := cli.NewProjectOptions(files,
		cli.WithName(*name),
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithEnv(env),
		// like `docker compose`: the .env file of the project directory, whose
		// values the shell's (-env) override, then COMPOSE_PROFILES unless
		// profiles are given explicitly
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(profiles...),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-check:", err)
		os.Exit(1)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-check:", err)
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, "compose-check:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
	os.Stdout.WriteString("\n")
}
