// OpenVINO's C API. The headers come from the pinned wheel that
// Scripts/setup.sh unpacks into .deps/openvino/include.
#ifndef COPENVINO_SHIM_H
#define COPENVINO_SHIM_H
#include <openvino/c/openvino.h>
#endif
