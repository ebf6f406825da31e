# SPDX-License-Identifier: Apache-2.0
# bpf_skeleton(<name> SOURCES <file.bpf.c> [INCLUDES dir...] [DEFINES NAME...])
#
# Compiles one BPF object (each DEFINES name passed as -D<name>) with clang -target bpf (CO-RE, BTF), generates
# <name>.skel.h with `bpftool gen skeleton` into the build tree, and defines an
# INTERFACE target `<name>_skel` whose include directory holds the header.
# Generated files never land in the source tree.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool REQUIRED PATHS /usr/sbin /usr/local/sbin)

function(bpf_skeleton name)
  cmake_parse_arguments(ARG "" "" "SOURCES;INCLUDES;DEFINES" ${ARGN})
  list(LENGTH ARG_SOURCES n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "bpf_skeleton(${name}): exactly one SOURCES file is supported")
  endif()
  get_filename_component(src "${ARG_SOURCES}" ABSOLUTE)
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/bpf_gen")
  set(obj "${out_dir}/${name}.bpf.o")
  set(skel "${out_dir}/${name}.skel.h")
  set(dep "${out_dir}/${name}.bpf.d")
  set(inc_flags "")
  foreach(d IN LISTS ARG_INCLUDES)
    get_filename_component(d_abs "${d}" ABSOLUTE)
    list(APPEND inc_flags "-I${d_abs}")
  endforeach()
  foreach(d IN LISTS ARG_DEFINES)
    list(APPEND inc_flags "-D${d}")
  endforeach()
  file(MAKE_DIRECTORY "${out_dir}")
  add_custom_command(
    OUTPUT "${obj}"
    COMMAND ${BPF_CLANG} -target bpf -g -O2 -D__TARGET_ARCH_x86 -Wall -Werror
            -Wno-unused-function -mcpu=v3
            ${inc_flags} -I${CMAKE_CURRENT_SOURCE_DIR}
            -MD -MF "${dep}" -c "${src}" -o "${obj}"
    DEPENDS "${src}"
    DEPFILE "${dep}"
    COMMENT "BPF ${name}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT "${skel}"
    COMMAND ${BPFTOOL} gen skeleton "${obj}" name ${name} > "${skel}"
    DEPENDS "${obj}"
    COMMENT "bpftool gen skeleton ${name}"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS "${skel}")
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE "${out_dir}")
  set_property(TARGET ${name}_skel PROPERTY BPF_OBJECT "${obj}")
endfunction()
