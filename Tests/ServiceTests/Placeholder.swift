import Testing

@Test func ServiceTargetBuilds() {
    #expect(Bool(true))
}
