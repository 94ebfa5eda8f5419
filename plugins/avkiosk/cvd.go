package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// database is what the header of one ClamAV signature database says.
type database struct {
	File    string
	Version int
	Sigs    int
	Built   time.Time
}

// cvdHeaderSize is the fixed size of the header of .cvd and .cld files.
const cvdHeaderSize = 512

// parseCVDHeader reads the 512-byte text header of a .cvd/.cld file:
//
//	ClamAV-VDB:<build time>:<version>:<signatures>:<f-level>:<md5>:<dsig>:<builder>:<build time, Unix seconds>
//
// The build time is written "%d %b %Y %H-%M %z" (a dash, not a colon, so
// the fields split cleanly); the Unix seconds in the last field are used
// since they need no parsing of month names or zones.
func parseCVDHeader(head []byte) (database, error) {
	var db database
	text := strings.TrimRight(string(bytes.TrimRight(head, "\x00")), " \n")
	rest, ok := strings.CutPrefix(text, "ClamAV-VDB:")
	if !ok {
		return db, errors.New("not a ClamAV database: header does not start with ClamAV-VDB")
	}
	f := strings.Split(rest, ":")
	if len(f) < 8 {
		return db, fmt.Errorf("ClamAV database header has %d fields, want 8", len(f))
	}
	var err error
	if db.Version, err = strconv.Atoi(f[1]); err != nil || db.Version <= 0 {
		return db, fmt.Errorf("ClamAV database header: version %q is not a positive number", f[1])
	}
	if db.Sigs, err = strconv.Atoi(f[2]); err != nil {
		return db, fmt.Errorf("ClamAV database header: signature count %q is not a number", f[2])
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(f[7]), 10, 64)
	if err != nil || secs <= 0 {
		return db, fmt.Errorf("ClamAV database header: build time %q is not Unix seconds", f[7])
	}
	db.Built = time.Unix(secs, 0).UTC()
	return db, nil
}

// readDatabases reads the header of every .cvd and .cld file in dir. It
// returns the newest database (by build time), and whether dir holds any
// signature file at all (custom .hdb/.ndb... databases have no header).
func readDatabases(dir string) (newest *database, anySigs bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, err
	}
	var errs []error
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || ext == "" || ext == ".dat" || ext == ".conf" {
			continue
		}
		anySigs = true
		if ext != ".cvd" && ext != ".cld" {
			continue
		}
		db, err := readHeader(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if newest == nil || db.Built.After(newest.Built) {
			newest = &db
		}
	}
	return newest, anySigs, errors.Join(errs...)
}

func readHeader(path string) (database, error) {
	f, err := os.Open(path)
	if err != nil {
		return database{}, err
	}
	defer f.Close()
	head := make([]byte, cvdHeaderSize)
	if _, err := io.ReadFull(f, head); err != nil {
		return database{}, fmt.Errorf("reading header of %s: %w", path, err)
	}
	db, err := parseCVDHeader(head)
	if err != nil {
		return db, fmt.Errorf("%s: %w", path, err)
	}
	db.File = filepath.Base(path)
	return db, nil
}
