// What Swift cannot import from FFmpeg's headers directly: function-like
// macros (AVERROR, AVERROR_EOF, av_err2str), constants built from them,
// and variadic calls (av_log). Every name here carries the `cffmpeg_` prefix.
#ifndef CFFMPEG_SHIM_H
#define CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/dict.h>
#include <libavutil/log.h>
#include <libavutil/hwcontext.h>
#include <libswscale/swscale.h>

static inline int cffmpeg_averror(int posixErrno) { return AVERROR(posixErrno); }
static inline int cffmpeg_averror_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cffmpeg_averror_exit(void) { return AVERROR_EXIT; }
static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cffmpeg_time_base(void) { return AV_TIME_BASE; }

/// Writes FFmpeg's text for `code` into `buffer`; av_err2str is a macro
/// over a compound literal, which Swift cannot call.
static inline void cffmpeg_error_string(int code, char *buffer, size_t size) {
    av_strerror(code, buffer, size);
}

/// av_log is variadic; the shim logs one preformatted line.
static inline void cffmpeg_log_line(void *context, int level, const char *line) {
    av_log(context, level, "%s\n", line);
}

/// Keeps FFmpeg's own console output to errors only unless asked.
static inline void cffmpeg_set_log_level(int level) { av_log_set_level(level); }

#endif
