# sandwatch_sanitizers: INTERFACE target carrying sanitizer flags when enabled.
add_library(sandwatch_sanitizers INTERFACE)
if(SANDWATCH_SANITIZE)
  target_compile_options(sandwatch_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(sandwatch_sanitizers INTERFACE -fsanitize=address,undefined)
elseif(SANDWATCH_TSAN)
  target_compile_options(sandwatch_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(sandwatch_sanitizers INTERFACE -fsanitize=thread)
endif()
