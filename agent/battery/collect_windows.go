//go:build windows

package battery

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/parc-project/parc/agent/agentapi"
)

// The battery class IOCTLs (poclass.h): CTL_CODE(FILE_DEVICE_BATTERY 0x29,
// function, METHOD_BUFFERED, FILE_READ_ACCESS).
const (
	ioctlBatteryQueryTag         = 0x294040
	ioctlBatteryQueryInformation = 0x294044
	ioctlBatteryQueryStatus      = 0x29404c
)

// guidDeviceBattery is GUID_DEVICE_BATTERY (batclass.h), the device
// interface class every battery driver registers.
var guidDeviceBattery = windows.GUID{
	Data1: 0x72631e54, Data2: 0x78a4, Data3: 0x11d0,
	Data4: [8]byte{0xbc, 0xf7, 0x00, 0xaa, 0x00, 0xb7, 0xb3, 0x2a},
}

// collect asks each battery device through the battery class IOCTLs, the
// interface Windows' own battery report uses. It needs no COM and no WMI
// service (root\WMI's BatteryStaticData answers "Not supported" on many
// laptops), and BATTERY_INFORMATION has design, full-charge capacity and
// cycle count in one call.
func collect(ctx context.Context) (*agentapi.BatteryFacts, error) {
	paths, err := windows.CM_Get_Device_Interface_List("", &guidDeviceBattery, windows.CM_GET_DEVICE_INTERFACE_LIST_PRESENT)
	if errors.Is(err, windows.ERROR_NO_SUCH_DEVICE_INTERFACE) {
		return nil, ErrNoBattery
	}
	if err != nil {
		return nil, fmt.Errorf("listing battery devices: %w", err)
	}
	var batteries []agentapi.Battery
	var errs []error
	for i, path := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, ok, err := queryBattery(i, path)
		if err != nil {
			errs = append(errs, fmt.Errorf("battery %d (%s): %w", i, path, err))
			continue
		}
		if ok {
			batteries = append(batteries, b)
		}
	}
	return result(batteries, errs)
}

// queryBattery reads one battery device; false when its bay is empty or it
// is a UPS.
func queryBattery(index int, path string) (agentapi.Battery, bool, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return agentapi.Battery{}, false, err
	}
	// The battery IOCTLs need read access: a handle opened with none gets
	// ERROR_ACCESS_DENIED.
	h, err := windows.CreateFile(p, windows.GENERIC_READ, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return agentapi.Battery{}, false, fmt.Errorf("opening: %w", err)
	}
	defer windows.CloseHandle(h)

	var wait uint32 // 0: answer at once, do not wait for a pack to be inserted
	var tag uint32
	if err := ioctl(h, ioctlBatteryQueryTag, &wait, &tag); err != nil {
		return agentapi.Battery{}, false, fmt.Errorf("querying tag: %w", err)
	}
	if tag == 0 { // BATTERY_TAG_INVALID: an empty bay
		return agentapi.Battery{}, false, nil
	}
	q := batteryQueryInformation{BatteryTag: tag, InformationLevel: levelInformation}
	var info batteryInformation
	if err := ioctl(h, ioctlBatteryQueryInformation, &q, &info); err != nil {
		return agentapi.Battery{}, false, fmt.Errorf("querying information: %w", err)
	}
	ws := batteryWaitStatus{BatteryTag: tag}
	var status batteryStatus
	if err := ioctl(h, ioctlBatteryQueryStatus, &ws, &status); err != nil {
		status.Capacity = batteryUnknownValue // the capacities still stand
	}
	// Names are optional in the battery class: many drivers answer
	// ERROR_INVALID_FUNCTION, and the facts stand without them.
	manufacturer := queryString(h, tag, levelManufactureName)
	deviceName := queryString(h, tag, levelDeviceName)
	b, ok := fromBatteryClass(index, manufacturer, deviceName, info, status)
	return b, ok, nil
}

// queryString asks for a string information level; "" when the driver
// does not say.
func queryString(h windows.Handle, tag uint32, level int32) string {
	q := batteryQueryInformation{BatteryTag: tag, InformationLevel: level}
	var buf [128]uint16
	if err := ioctl(h, ioctlBatteryQueryInformation, &q, &buf); err != nil {
		return ""
	}
	return windows.UTF16ToString(buf[:])
}

// ioctl sends code with *in as input and *out as output buffer.
func ioctl[I, O any](h windows.Handle, code uint32, in *I, out *O) error {
	var n uint32
	return windows.DeviceIoControl(h, code,
		(*byte)(unsafe.Pointer(in)), uint32(unsafe.Sizeof(*in)),
		(*byte)(unsafe.Pointer(out)), uint32(unsafe.Sizeof(*out)),
		&n, nil)
}
