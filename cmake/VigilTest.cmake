# SPDX-License-Identifier: Apache-2.0
# vigil_test(<name> SOURCES ... [LIBS ...] [LABELS ...] [TIMEOUT s])
#
# One Catch2 (v2) executable registered as one CTest test. Labels follow the
# tags in the test sources: `unit` needs nothing, `root` loads real BPF on this
# kernel, `vm` boots kernels in QEMU, `kafka` talks the Kafka protocol to a
# loopback broker. `ctest -LE 'root|vm'` runs the unprivileged set.
function(vigil_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE vigil_catch_main ${ARG_LIBS})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${name} --order decl)
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
