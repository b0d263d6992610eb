# sandwatch_warnings: link this INTERFACE target to get the project's warning set.
add_library(sandwatch_warnings INTERFACE)
target_compile_options(sandwatch_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
