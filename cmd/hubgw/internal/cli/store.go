package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Login is what `hubgw login` keeps for one gateway.
type Login struct {
	Token    string `json:"token"`
	Username string `json:"username,omitempty"`
	Mode     string `json:"mode,omitempty"`
}

// Credentials is the file in the user's config directory: the current
// gateway and a login per gateway, so a token is only ever sent to the
// gateway that issued it (HUBGW_GATEWAY naming another one does not get
// it).
type Credentials struct {
	Current string           `json:"current,omitempty"`
	Logins  map[string]Login `json:"logins,omitempty"`
}

// Store reads and writes the credentials file.
type Store struct{ Path string }

var errNoConfigDir = errors.New("no config directory to keep the login in")

// DefaultStore is os.UserConfigDir()/hubgw/credentials.json.
func DefaultStore() (Store, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return Store{}, fmt.Errorf("%w: %w", errNoConfigDir, err)
	}
	return Store{Path: filepath.Join(dir, "hubgw", "credentials.json")}, nil
}

// Load reads the file; a missing file is no logins.
func (s Store) Load() (Credentials, error) {
	var c Credentials
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w (remove it and log in again)", s.Path, err)
	}
	return c, nil
}

// Save writes the file, readable by the user only.
func (s Store) Save(c Credentials) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writePrivate(s.Path, append(b, '\n'))
}

// writePrivate writes a file readable by the user only: to a 0600
// temporary file in the same directory (made 0700) renamed over the old
// one, so a reader (another hubgw running at the same time) never sees
// half a file, and a file left looser by hand is replaced by a private one.
func writePrivate(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, nothing is there
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// normalizeGateway checks a gateway URL and drops trailing slashes, so
// one gateway is one key however it was typed.
func normalizeGateway(u string) (string, error) {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", fmt.Errorf("gateway URL %q: must start with http:// or https://", u)
	}
	return u, nil
}
