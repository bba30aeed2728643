import Testing

@Test func MediaIOTargetBuilds() {
    #expect(Bool(true))
}
