import Testing

@Test func thermocolorTargetBuilds() {
    #expect(Bool(true))
}
