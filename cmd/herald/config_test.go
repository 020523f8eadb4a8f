package main

import (
	"bytes"
	"strings"
	"testing"
)

// envOf turns a map into a getenv function.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestRunConfigErrorIsOneLineNamingTheSetting(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		setting string
	}{
		{name: "log format", env: map[string]string{"HERALD_LOG_FORMAT": "xml"}, setting: "HERALD_LOG_FORMAT"},
		{name: "address", env: map[string]string{"HERALD_ADDR": "nonsense"}, setting: "HERALD_ADDR"},
		{name: "secret key", env: map[string]string{"HERALD_SECRET_KEY": "short"}, setting: "HERALD_SECRET_KEY"},
		{name: "shutdown timeout flag", args: []string{"--shutdown-timeout", "0s"}, setting: "HERALD_SHUTDOWN_TIMEOUT"},
	}
	for _, cmd := range []string{"serve", "migrate"} {
		for _, tc := range tests {
			t.Run(cmd+"/"+tc.name, func(t *testing.T) {
				env := map[string]string{"HERALD_DATA_DIR": t.TempDir()}
				for k, v := range tc.env {
					env[k] = v
				}
				var stdout, stderr bytes.Buffer
				code := run(append([]string{cmd}, tc.args...), strings.NewReader(""), &stdout, &stderr, envOf(env))
				if code != 1 {
					t.Fatalf("run %s = %d, want 1", cmd, code)
				}
				got := strings.TrimSpace(stderr.String())
				if strings.Count(got, "\n") != 0 || !strings.Contains(got, tc.setting) {
					t.Errorf("stderr = %q, want one line naming %s", got, tc.setting)
				}
			})
		}
	}
}

func TestRunVersionAndHelp(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
	}{
		{args: []string{"version"}, wantStdout: "herald "},
		{args: []string{"help"}, wantStdout: "usage: herald"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr, envOf(nil))
			if code != tc.code || !strings.HasPrefix(stdout.String(), tc.wantStdout) {
				t.Errorf("run %v = %d, stdout %q; want %d and %q…", tc.args, code, stdout.String(), tc.code, tc.wantStdout)
			}
		})
	}
}

func TestRedactURLHidesCredentials(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://herald:s3cret@db:5432/herald?sslmode=disable", "postgres://…@db:5432/herald?sslmode=disable"},
		{"postgresql://u@db/herald", "postgresql://…@db/herald"},
		{"postgres://db/herald", "postgres://db/herald"},
		{"data/herald.db", "data/herald.db"},
	}
	for _, tc := range tests {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
