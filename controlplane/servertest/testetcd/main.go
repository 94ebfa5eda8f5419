// Command testetcd is etcd itself, built from the etcd server module at the
// version parc's client uses, so that tests can run an external etcd as a
// process of its own without installing one. It is not shipped.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
