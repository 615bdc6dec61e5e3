package fencelock

import "unsafe"

// unsafePointer converts a C-allocated pointer for C.free.
func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }
