import Testing

@Test func CaptureTargetBuilds() {
    #expect(Bool(true))
}
