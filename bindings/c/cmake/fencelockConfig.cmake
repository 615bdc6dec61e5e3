# CMake package config of fencelock, installed to <prefix>/lib/cmake/fencelock. Use:
#   find_package(fencelock REQUIRED)
#   target_link_libraries(app PRIVATE fencelock::fencelock)
get_filename_component(_fencelock_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET fencelock::fencelock)
  add_library(fencelock::fencelock SHARED IMPORTED)
  set_target_properties(fencelock::fencelock PROPERTIES
    IMPORTED_LOCATION "${_fencelock_prefix}/lib/libfencelock.so"
    IMPORTED_NO_SONAME FALSE
    INTERFACE_INCLUDE_DIRECTORIES "${_fencelock_prefix}/include"
    INTERFACE_COMPILE_FEATURES cxx_std_17)
endif()
set(fencelock_FOUND TRUE)
unset(_fencelock_prefix)
