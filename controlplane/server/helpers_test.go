package server_test

import (
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func clientPrefix() clientv3.OpOption { return clientv3.WithPrefix() }

func nowFunc() time.Time { return time.Now() }
