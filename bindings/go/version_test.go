package fencelock

import (
	"os"
	"regexp"
	"testing"
)

// Version reports the workspace version of the repository's Cargo.toml, the one version of
// every package (the module is tagged bindings/go/v<that version>).
func TestVersionIsTheWorkspaceVersion(t *testing.T) {
	text, err := os.ReadFile("../../Cargo.toml")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?ms)^\[workspace\.package\]\s*$(.*?)^\[`).FindSubmatch(text)
	if section == nil {
		t.Fatal("Cargo.toml has no [workspace.package] section")
	}
	m := regexp.MustCompile(`(?m)^version\s*=\s*"([^"]+)"`).FindSubmatch(section[1])
	if m == nil {
		t.Fatal("Cargo.toml's [workspace.package] has no version")
	}
	if got := Version(); got != string(m[1]) {
		t.Fatalf("Version() = %q, Cargo.toml's workspace version is %q", got, m[1])
	}
}
