#!/usr/bin/python3
"""A small RTSP server on 127.0.0.1 for ThermoColor's network capture tests.

Serves a moving grey test pattern as H.264 at rtsp://127.0.0.1:PORT/live
(GStreamer's RTSP server from Debian's gir1.2-gst-rtsp-server-1.0).

    rtsp-server.py PORT [WIDTHxHEIGHT] [FPS]
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port = sys.argv[1]
    width, height = (sys.argv[2] if len(sys.argv) > 2 else "160x128").split("x")
    fps = sys.argv[3] if len(sys.argv) > 3 else "25"
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! videoconvert ! video/x-raw,format=I420 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} "
        f"! rtph264pay name=pay0 pt=96 )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/live", factory)
    server.attach(None)
    print(f"serving rtsp://127.0.0.1:{port}/live", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
