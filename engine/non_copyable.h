// SPDX-License-Identifier: Apache-2.0
// A base for classes that own something (a thread, a socket, a BPF link)
// that two copies would release twice: `class X : NonCopyable { ... };`
// deletes X's copy constructor and copy assignment. It declares no moves, so
// X gets none unless it declares them itself.
#pragma once

namespace vigil {

class NonCopyable {
 public:
  NonCopyable(const NonCopyable&) = delete;
  NonCopyable& operator=(const NonCopyable&) = delete;

 protected:
  NonCopyable() = default;
  ~NonCopyable() = default;
};

}  // namespace vigil
