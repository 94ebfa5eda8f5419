package spool

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/parc-project/parc/agent/durable"
)

const stateFile = "state.json"

// state is the spool's persistent drop accounting, rewritten atomically.
//
// The count of reports lost is kept as two running totals rather than one
// counter that is reset, because a reset cannot be made atomic with the
// server's acknowledgement: Dropped - Reported is what the next delivered
// report must say, and it only shrinks once a report carrying it has been
// acknowledged (see Spool.Ack).
//
// DroppedSeq and AckedSeq close the window between saving this file and
// removing a report file: a report file whose seq equals one of them was
// already accounted for by the saved state, so Open removes it without
// counting it again.
type state struct {
	Version int `json:"version"`
	// Dropped counts every report the spool lost: dropped when full,
	// found corrupt, or refused by the server for good.
	Dropped uint64 `json:"dropped"`
	// Reported counts the losses that acknowledged reports have told the
	// server about.
	Reported   uint64 `json:"reported"`
	DroppedSeq uint64 `json:"dropped_seq,omitempty"`
	AckedSeq   uint64 `json:"acked_seq,omitempty"`
}

const stateVersion = 1

// unreported is the number of losses the server has not been told about.
func (st state) unreported() uint64 {
	if st.Reported > st.Dropped {
		return 0
	}
	return st.Dropped - st.Reported
}

// loadState reads dir's state file. A missing file is a new spool.
func loadState(dir string) (state, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return state{Version: stateVersion}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("reading spool state: %w", err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return state{}, fmt.Errorf("%w: spool state %s: %w", errCorrupt, stateFile, err)
	}
	if st.Version != stateVersion {
		return state{}, fmt.Errorf("%w: spool state version %d, want %d", errCorrupt, st.Version, stateVersion)
	}
	return st, nil
}

// saveState replaces dir's state file, durably.
func saveState(dir string, st state) error {
	st.Version = stateVersion
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding spool state: %w", err)
	}
	if err := durable.WriteFile(filepath.Join(dir, stateFile), data, 0o600); err != nil {
		return fmt.Errorf("saving spool state: %w", err)
	}
	return nil
}
