package main

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// parseSoftwareUpdateList reads `softwareupdate --list` (macOS 10.15 and
// later): each update is a "* Label: …" line followed by a tab-indented
// "Title: …, Version: …, Size: …, Recommended: YES, Action: restart," line.
// The pending names are the titles (the labels are build identifiers).
func parseSoftwareUpdateList(out []byte) []string {
	names := []string{}
	var label string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if l, ok := strings.CutPrefix(line, "* Label: "); ok {
			if label != "" { // a label without its Title line
				names = append(names, label)
			}
			label = l
			continue
		}
		if t, ok := strings.CutPrefix(line, "Title: "); ok && label != "" {
			title, _, _ := strings.Cut(t, ",")
			names = append(names, strings.TrimSpace(title))
			label = ""
		}
	}
	if label != "" {
		names = append(names, label)
	}
	return names
}

// parseInstallHistory reads /Library/Receipts/InstallHistory.plist (an XML
// property list: an array of dicts with date, displayName, processName...)
// and returns the date of the last install made by the system updater
// (processName softwareupdated).
func parseInstallHistory(r io.Reader) (last time.Time, err error) {
	dec := xml.NewDecoder(r)
	var key, process string
	var date time.Time
	depth := 0 // of <dict>
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return last, nil
		}
		if err != nil {
			return last, fmt.Errorf("reading install history: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "dict":
				depth++
				process, date = "", time.Time{}
			case "key", "string", "date":
				var text string
				if err := dec.DecodeElement(&text, &t); err != nil {
					return last, fmt.Errorf("reading install history: %w", err)
				}
				switch {
				case t.Name.Local == "key":
					key = text
				case key == "processName":
					process = text
				case key == "date" && t.Name.Local == "date":
					date, _ = time.Parse(time.RFC3339, strings.TrimSpace(text))
				}
			}
		case xml.EndElement:
			if t.Name.Local == "dict" {
				depth--
				if process == "softwareupdated" && date.After(last) {
					last = date
				}
			}
		}
	}
}
