// Media I/O through FFmpeg.
