import Testing

@Test func InferenceTargetBuilds() {
    #expect(Bool(true))
}
