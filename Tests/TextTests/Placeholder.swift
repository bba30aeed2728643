import Testing

@Test func TextTargetBuilds() {
    #expect(Bool(true))
}
