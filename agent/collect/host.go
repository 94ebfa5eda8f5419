package collect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/net"

	"github.com/parc-project/parc/agent/agentapi"
)

// Host collects OS, CPU, memory, disks and network interfaces with gopsutil.
// It calls gopsutil's individual functions rather than host.Info, which
// also counts processes: work the report does not need, on every cycle.
type Host struct{}

// Name implements Collector.
func (Host) Name() string { return "host" }

// Collect implements Collector. It gathers what it can and reports every
// part that failed.
func (Host) Collect(ctx context.Context, r *agentapi.Report) error {
	h := &r.Host
	h.OS, h.Arch = runtime.GOOS, runtime.GOARCH
	var errs []error
	note := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}

	var err error
	h.Hostname, err = os.Hostname()
	note("hostname", err)
	h.Platform, _, h.PlatformVersion, err = host.PlatformInformationWithContext(ctx)
	note("platform", err)
	h.Kernel, err = host.KernelVersionWithContext(ctx)
	note("kernel", err)
	h.UptimeSeconds, err = host.UptimeWithContext(ctx)
	note("uptime", err)
	if boot, err := host.BootTimeWithContext(ctx); err == nil {
		h.BootTime = time.Unix(int64(boot), 0).UTC()
	} else {
		note("boot time", err)
	}

	if infos, err := cpu.InfoWithContext(ctx); err == nil && len(infos) > 0 {
		h.CPUModel = strings.TrimSpace(infos[0].ModelName)
	} else if err != nil {
		note("cpu model", err)
	}
	h.CPUCores, err = cpu.CountsWithContext(ctx, true)
	note("cpu count", err)
	// Physical cores are unknown in many VMs; 0 then says "unknown".
	h.CPUPhysical, _ = cpu.CountsWithContext(ctx, false)

	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		h.MemoryBytes = vm.Total
	} else {
		note("memory", err)
	}

	h.Disks, err = disks(ctx)
	note("disks", err)
	h.Interfaces, err = interfaces(ctx)
	note("network interfaces", err)

	id, err := readIdentity(ctx)
	note("firmware identity", err)
	h.Vendor, h.Model, h.Serial, h.HardwareUUID, h.IdentityNote = id.Vendor, id.Model, id.Serial, id.UUID, id.Note

	return errors.Join(errs...)
}

// ignoredFSTypes are file systems that are not a disk a technician cares
// about even when gopsutil lists them as physical.
var ignoredFSTypes = []string{"squashfs", "overlay", "tmpfs", "devtmpfs", "iso9660", "udf"}

func disks(ctx context.Context) ([]agentapi.Disk, error) {
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil {
		return nil, err
	}
	var out []agentapi.Disk
	seen := map[string]bool{}
	for _, p := range parts {
		if slices.Contains(ignoredFSTypes, p.Fstype) || seen[p.Device] {
			continue // a bind mount of the same device counts once
		}
		u, err := disk.UsageWithContext(ctx, p.Mountpoint)
		if err != nil || u.Total == 0 {
			continue // unreadable or pseudo; not a disk to report
		}
		seen[p.Device] = true
		out = append(out, agentapi.Disk{Mount: p.Mountpoint, Device: p.Device, FSType: p.Fstype,
			TotalBytes: u.Total, FreeBytes: u.Free})
	}
	slices.SortFunc(out, func(a, b agentapi.Disk) int { return strings.Compare(a.Mount, b.Mount) })
	return out, nil
}

func interfaces(ctx context.Context) ([]agentapi.Interface, error) {
	ifs, err := net.InterfacesWithContext(ctx)
	if err != nil {
		return nil, err
	}
	var out []agentapi.Interface
	for _, i := range ifs {
		if i.HardwareAddr == "" || slices.Contains(i.Flags, "loopback") {
			continue
		}
		nic := agentapi.Interface{Name: i.Name, MAC: strings.ToLower(i.HardwareAddr), Up: slices.Contains(i.Flags, "up")}
		for _, a := range i.Addrs {
			nic.Addrs = append(nic.Addrs, a.Addr)
		}
		slices.Sort(nic.Addrs)
		out = append(out, nic)
	}
	slices.SortFunc(out, func(a, b agentapi.Interface) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
