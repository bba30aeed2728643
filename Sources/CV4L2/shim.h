// What Swift cannot import from the V4L2 and libv4l2 headers directly: the
// VIDIOC_* request numbers and V4L2_PIX_FMT_* codes (function-like macros
// built from _IOWR and v4l2_fourcc), and the variadic v4l2_open/v4l2_ioctl
// and ioctl. Every name here carries the `cv4l2_` prefix.
#ifndef CV4L2_SHIM_H
#define CV4L2_SHIM_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/videodev2.h>
#include <libv4l2.h>

// --- Calls ------------------------------------------------------------------

/// v4l2_open without the variadic mode argument (capture never creates files).
static inline int cv4l2_open(const char *path, int flags) {
    return v4l2_open(path, flags);
}

/// v4l2_ioctl with its one argument made explicit: every V4L2 request takes
/// a pointer to a structure.
static inline int cv4l2_ioctl(int fd, unsigned long request, void *argument) {
    return v4l2_ioctl(fd, request, argument);
}

/// The kernel's ioctl, bypassing libv4l2: used to ask a freshly opened file
/// whether it is a V4L2 device at all before libv4l2 takes it over, so a
/// wrong path fails with the kernel's ENOTTY instead of libv4l2's log line.
static inline int cv4l2_raw_ioctl(int fd, unsigned long request, void *argument) {
    return ioctl(fd, request, argument);
}

// --- Request numbers ----------------------------------------------------------

static inline unsigned long cv4l2_request_querycap(void) { return VIDIOC_QUERYCAP; }
static inline unsigned long cv4l2_request_enum_fmt(void) { return VIDIOC_ENUM_FMT; }
static inline unsigned long cv4l2_request_enum_framesizes(void) { return VIDIOC_ENUM_FRAMESIZES; }
static inline unsigned long cv4l2_request_enum_frameintervals(void) { return VIDIOC_ENUM_FRAMEINTERVALS; }
static inline unsigned long cv4l2_request_g_fmt(void) { return VIDIOC_G_FMT; }
static inline unsigned long cv4l2_request_s_fmt(void) { return VIDIOC_S_FMT; }
static inline unsigned long cv4l2_request_g_parm(void) { return VIDIOC_G_PARM; }
static inline unsigned long cv4l2_request_s_parm(void) { return VIDIOC_S_PARM; }
static inline unsigned long cv4l2_request_reqbufs(void) { return VIDIOC_REQBUFS; }
static inline unsigned long cv4l2_request_querybuf(void) { return VIDIOC_QUERYBUF; }
static inline unsigned long cv4l2_request_qbuf(void) { return VIDIOC_QBUF; }
static inline unsigned long cv4l2_request_dqbuf(void) { return VIDIOC_DQBUF; }
static inline unsigned long cv4l2_request_streamon(void) { return VIDIOC_STREAMON; }
static inline unsigned long cv4l2_request_streamoff(void) { return VIDIOC_STREAMOFF; }

// --- Pixel formats (four-character codes) --------------------------------------

static inline uint32_t cv4l2_pixfmt_y16(void) { return V4L2_PIX_FMT_Y16; }
static inline uint32_t cv4l2_pixfmt_grey(void) { return V4L2_PIX_FMT_GREY; }
static inline uint32_t cv4l2_pixfmt_yuyv(void) { return V4L2_PIX_FMT_YUYV; }
static inline uint32_t cv4l2_pixfmt_uyvy(void) { return V4L2_PIX_FMT_UYVY; }
static inline uint32_t cv4l2_pixfmt_nv12(void) { return V4L2_PIX_FMT_NV12; }
static inline uint32_t cv4l2_pixfmt_yuv420(void) { return V4L2_PIX_FMT_YUV420; }
static inline uint32_t cv4l2_pixfmt_yvu420(void) { return V4L2_PIX_FMT_YVU420; }
static inline uint32_t cv4l2_pixfmt_mjpeg(void) { return V4L2_PIX_FMT_MJPEG; }

// --- Flags, as the unsigned types the structures use -------------------------

static inline uint32_t cv4l2_cap_video_capture(void) { return V4L2_CAP_VIDEO_CAPTURE; }
static inline uint32_t cv4l2_cap_streaming(void) { return V4L2_CAP_STREAMING; }
static inline uint32_t cv4l2_cap_device_caps(void) { return V4L2_CAP_DEVICE_CAPS; }
static inline uint32_t cv4l2_cap_timeperframe(void) { return V4L2_CAP_TIMEPERFRAME; }
static inline uint32_t cv4l2_fmt_flag_compressed(void) { return V4L2_FMT_FLAG_COMPRESSED; }
static inline uint32_t cv4l2_fmt_flag_emulated(void) { return V4L2_FMT_FLAG_EMULATED; }
static inline uint32_t cv4l2_buf_flag_error(void) { return V4L2_BUF_FLAG_ERROR; }
static inline uint32_t cv4l2_buf_flag_timestamp_mask(void) { return V4L2_BUF_FLAG_TIMESTAMP_MASK; }
static inline uint32_t cv4l2_buf_flag_timestamp_monotonic(void) { return V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC; }
/// v4l2_fd_open flag: list the formats libv4lconvert can produce (marked
/// V4L2_FMT_FLAG_EMULATED) beside the camera's own.
static inline int cv4l2_enable_enum_fmt_emulation(void) { return V4L2_ENABLE_ENUM_FMT_EMULATION; }

#endif
