package collect

import (
	"context"
	"fmt"
	"os/exec"
)

func readIdentity(ctx context.Context) (identity, error) {
	out, err := exec.CommandContext(ctx, "/usr/sbin/ioreg", "-rd1", "-c", "IOPlatformExpertDevice").Output()
	if err != nil {
		return identity{}, fmt.Errorf("running ioreg: %w", err)
	}
	return identityFromIoreg(string(out)), nil
}
