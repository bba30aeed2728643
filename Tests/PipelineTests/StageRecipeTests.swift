import Imaging
import Pipeline
import Testing

@Suite("One stage recipe for the command line and the configuration file")
struct StageRecipeTests {
    @Test("The classic palette needs nothing, and no rule is broken")
    func classicIsValid() throws {
        let recipe = StageRecipe()
        #expect(recipe.problems().isEmpty)
        #expect(try recipe.makeStage(reading: .offline) == nil)
    }

    @Test("Each front end spells the same problem in its own names")
    func problemsAreSpeltPerFrontEnd() throws {
        let recipe = StageRecipe(neural: NeuralRecipe(prompt: "a road at night"))
        let problem = try #require(recipe.problems().first)
        #expect(problem.commandLineDescription == "--prompt needs --model: a prompt steers a neural model")
        #expect(problem.message(naming: \.configurationKey) == "needs processing.model: a prompt steers a neural model")
    }

    @Test("Settings that contradict each other are refused before anything opens", arguments: [
        (StageRecipe(neural: NeuralRecipe(model: "m", prompt: "p", embeddingFile: "e.json")), StageSetting.embeddingFile),
        (StageRecipe(neural: NeuralRecipe(model: "m", textEncoder: "minilm", clip: "clip")), .textEncoder),
        (StageRecipe(neural: NeuralRecipe(model: "m", batch: 0)), .batch),
        (StageRecipe(neural: NeuralRecipe(model: "m", requests: 0)), .requests),
        (StageRecipe(neural: NeuralRecipe(model: "m", temporalSmoothing: 1.5)), .temporalSmoothing),
        (StageRecipe(visible: VisibleRecipe(source: "v.mp4"), reference: ReferenceRecipe(image: "r.jpg")), .reference),
        (StageRecipe(reference: ReferenceRecipe(image: "r.jpg", regions: 0)), .referenceRegions),
        (StageRecipe(neural: NeuralRecipe(clip: "clip")), .clip),
    ])
    func contradictionsRefused(recipe: StageRecipe, setting: StageSetting) throws {
        let problems = recipe.problems()
        #expect(problems.map(\.setting) == [setting], "\(problems.map(\.commandLineDescription))")
        #expect(throws: PipelineError.self) { try recipe.makeStage(reading: .offline) }
    }

    @Test("Batch size follows the device unless given")
    func batchDefaults() {
        #expect(NeuralRecipe(model: "m").framesPerInference == 1)
        #expect(NeuralRecipe(model: "m", device: "GPU").framesPerInference == 8)
        #expect(NeuralRecipe(model: "m", batch: 4, device: "GPU").framesPerInference == 4)
    }
}
