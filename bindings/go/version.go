package fencelock

// #include "fencelock.h"
import "C"

// Version is the version of the libfencelock the program runs with, e.g. "0.1.0" (the C
// library's fl_version). Every fencelock package built from one source has this version; this
// module's tag for it is "bindings/go/v" + Version().
func Version() string {
	return C.GoString(C.fl_version())
}
