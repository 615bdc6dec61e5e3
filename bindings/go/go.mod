module fencelock.dev/go/fencelock

go 1.22
