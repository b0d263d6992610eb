// The web UI (receiver/ui/*), embedded into the binary at build time.
#pragma once

#include <cstddef>
#include <string_view>

namespace sandwatch::receiver {

struct UiAsset {
  const char* path;  // "/index.html", "/app.js", ...
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

// "/" maps to "/index.html". nullptr when there is no such asset.
const UiAsset* FindUiAsset(std::string_view path);

}  // namespace sandwatch::receiver
