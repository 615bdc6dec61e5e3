# CMake package config of fencelock, installed to <prefix>/lib/cmake/fencelock. Use:
#   find_package(fencelock 0.1 CONFIG REQUIRED)   # -DCMAKE_PREFIX_PATH=<prefix>
#   target_link_libraries(app PRIVATE fencelock::fencelock)         # libfencelock.so
#   target_link_libraries(app PRIVATE fencelock::fencelock_static)  # libfencelock.a
# Relocatable: the prefix is found from this file's own directory.
include(CMakeFindDependencyMacro)
get_filename_component(_fencelock_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

# fencelock.hpp needs C++17; C consumers (no CXX language enabled) get no C++ requirement.
get_property(_fencelock_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
set(_fencelock_features "")
if("CXX" IN_LIST _fencelock_languages)
  set(_fencelock_features cxx_std_17)
endif()

if(NOT TARGET fencelock::fencelock)
  add_library(fencelock::fencelock SHARED IMPORTED)
  set_target_properties(fencelock::fencelock PROPERTIES
    IMPORTED_LOCATION "${_fencelock_prefix}/lib/libfencelock.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_fencelock_prefix}/include"
    INTERFACE_COMPILE_FEATURES "${_fencelock_features}")
endif()

if(NOT TARGET fencelock::fencelock_static)
  # What the archive needs from the system, as fencelock.pc's Libs.private (rustc's
  # native-static-libs of the Rust standard library).
  find_dependency(Threads)
  add_library(fencelock::fencelock_static STATIC IMPORTED)
  set_target_properties(fencelock::fencelock_static PROPERTIES
    IMPORTED_LOCATION "${_fencelock_prefix}/lib/libfencelock.a"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C"
    INTERFACE_INCLUDE_DIRECTORIES "${_fencelock_prefix}/include"
    INTERFACE_COMPILE_FEATURES "${_fencelock_features}"
    INTERFACE_LINK_LIBRARIES "gcc_s;util;rt;Threads::Threads;m;${CMAKE_DL_LIBS}")
endif()

set(fencelock_FOUND TRUE)
unset(_fencelock_prefix)
unset(_fencelock_languages)
unset(_fencelock_features)
