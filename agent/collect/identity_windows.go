package collect

import (
	"context"
	"fmt"
	"strings"

	"github.com/yusufpapurcu/wmi"
)

// win32ComputerSystemProduct is the WMI class holding the firmware identity.
type win32ComputerSystemProduct struct {
	Vendor            string
	Name              string
	IdentifyingNumber string
	UUID              string
}

func readIdentity(ctx context.Context) (identity, error) {
	var rows []win32ComputerSystemProduct
	q := wmi.CreateQuery(&rows, "")
	if err := wmi.Query(q, &rows); err != nil {
		return identity{}, fmt.Errorf("WMI Win32_ComputerSystemProduct: %w", err)
	}
	if len(rows) == 0 {
		return identity{}, nil
	}
	p := rows[0]
	return identity{
		Vendor: strings.TrimSpace(p.Vendor),
		Model:  strings.TrimSpace(p.Name),
		Serial: strings.TrimSpace(p.IdentifyingNumber),
		UUID:   strings.ToLower(strings.TrimSpace(p.UUID)),
	}, nil
}
