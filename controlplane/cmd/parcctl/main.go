// Command parcctl is the command line of parc for technicians,
// coordinators and administrators.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/parc-project/parc/controlplane/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := ctl.NewRootCommand(os.Stdout).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "parcctl:", err)
		os.Exit(1)
	}
}
