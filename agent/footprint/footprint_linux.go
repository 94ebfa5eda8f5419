package footprint

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimCode asks the kernel to reclaim the resident pages of the agent's
// executable (MADV_PAGEOUT, Linux 5.4 and later): its code and read-only
// data, faulted in by the cycle and by the kernel's fault-around, which
// maps whole neighbourhoods of the binary. Older kernels refuse the advice
// (EINVAL); then nothing changes.
func trimCode() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer f.Close()
	var errs []error
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		start, end, ok := exeMapping(sc.Text(), exe)
		if !ok {
			continue
		}
		// The range is passed as numbers: the region is the binary's own
		// mapping, never Go memory, so no pointer is made of it.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_PAGEOUT); errno != 0 && errno != unix.EINVAL {
			errs = append(errs, fmt.Errorf("madvise %x-%x: %w", start, end, errno))
		}
	}
	return errors.Join(append(errs, sc.Err())...)
}

// exeMapping parses a line of /proc/self/maps and returns the range of a
// read-only mapping of the executable (code or constants; never its
// writable data, which holds live state).
func exeMapping(line, exe string) (start, end uintptr, ok bool) {
	f := strings.Fields(line)
	if len(f) < 6 || f[5] != exe || strings.Contains(f[1], "w") {
		return 0, 0, false
	}
	lo, hi, found := strings.Cut(f[0], "-")
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(lo, 16, 64)
	b, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || b <= a {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), true
}
