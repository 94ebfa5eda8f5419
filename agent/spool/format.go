package spool

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"

	"github.com/parc-project/parc/agent/agentapi"
)

// A spool file is one header line and the report as JSON:
//
//	parc-spool 1 <body length> <crc32c of body, 8 hex digits>\n
//	{"schema":1,"seq":42,...}
//
// The length and checksum let Open and Oldest tell a torn or damaged file
// from a good one without trusting the file system: rename makes a file appear
// whole on POSIX file systems with a journal, but not on every file system a
// school laptop may run (FAT on a USB-booted kiosk, a network home). The
// header is text so a technician can read a spool file with any pager.
const (
	fileMagic   = "parc-spool"
	fileVersion = "1"
	// maxHeaderLen bounds the header line: magic, version, a length of at
	// most 20 digits and 8 hex digits with their separators fit in 48.
	maxHeaderLen = 64
)

// errCorrupt marks a spool file that cannot be decoded: torn, truncated,
// damaged, or not a spool file at all.
var errCorrupt = errors.New("corrupt spool file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode serialises r into the spool file format.
func encode(r *agentapi.Report) ([]byte, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encoding report %d: %w", r.Seq, err)
	}
	header := fmt.Sprintf("%s %s %d %08x\n", fileMagic, fileVersion, len(body), crc32.Checksum(body, castagnoli))
	out := make([]byte, 0, len(header)+len(body))
	out = append(out, header...)
	return append(out, body...), nil
}

// parseHeader checks the header line at the start of data and returns the
// body length it announces and the header's own length.
func parseHeader(data []byte) (bodyLen int64, headerLen int, sum uint32, err error) {
	nl := bytes.IndexByte(data[:min(len(data), maxHeaderLen)], '\n')
	if nl < 0 {
		return 0, 0, 0, fmt.Errorf("%w: no header line", errCorrupt)
	}
	fields := bytes.Split(data[:nl], []byte{' '})
	if len(fields) != 4 || string(fields[0]) != fileMagic {
		return 0, 0, 0, fmt.Errorf("%w: not a spool file header", errCorrupt)
	}
	if string(fields[1]) != fileVersion {
		return 0, 0, 0, fmt.Errorf("%w: unknown spool format version %q", errCorrupt, fields[1])
	}
	n, err := strconv.ParseUint(string(fields[2]), 10, 63)
	if err != nil || (len(fields[2]) > 1 && fields[2][0] == '0') {
		return 0, 0, 0, fmt.Errorf("%w: bad body length %q", errCorrupt, fields[2])
	}
	if len(fields[3]) != 8 {
		return 0, 0, 0, fmt.Errorf("%w: bad checksum %q", errCorrupt, fields[3])
	}
	s, err := strconv.ParseUint(string(fields[3]), 16, 32)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: bad checksum %q", errCorrupt, fields[3])
	}
	return int64(n), nl + 1, uint32(s), nil
}

// decode parses a whole spool file and returns its report.
func decode(data []byte) (*agentapi.Report, error) {
	n, hl, sum, err := parseHeader(data)
	if err != nil {
		return nil, err
	}
	body := data[hl:]
	if int64(len(body)) != n {
		return nil, fmt.Errorf("%w: body is %d bytes, header says %d", errCorrupt, len(body), n)
	}
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return nil, fmt.Errorf("%w: checksum %08x, header says %08x", errCorrupt, got, sum)
	}
	r := new(agentapi.Report)
	if err := json.Unmarshal(body, r); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	if r.Seq == 0 {
		return nil, fmt.Errorf("%w: report has no sequence number", errCorrupt)
	}
	return r, nil
}
