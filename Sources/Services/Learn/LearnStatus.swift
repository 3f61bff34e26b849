import Wire

/// ModelStatus as GetModelStatus, ConfigureModel and ImportModel answer it.
enum LearnStatus {
    /// What `store` holds (nil: nothing was ever recorded for the collection): versions, the
    /// settings with defaults filled in, feedback held, and the metrics stored with the active
    /// model (or with the latest, when it was not activated). Zeros where nothing was trained,
    /// and `note` says so; a model that was not activated, with what its gate measured.
    static func status(of store: LearnStore?, collection: String) throws -> RuvectorV1.ModelStatus {
        var status = RuvectorV1.ModelStatus()
        guard let store else {
            status.collection = collection
            status.config = LearnLimits.resolved(RuvectorV1.ModelConfig())
            status.note = "no model trained yet: searches use the plain HNSW order"
            return status
        }
        let (active, latest) = store.versions
        if let stored = try store.model(active > 0 ? active : latest) {
            status = stored.status
        }
        // What the gate measured on the latest model when it was not activated (LearnTraining
        // stores its verdict as the model's note).
        let refusal = latest > active ? try store.model(latest)?.status.note ?? "" : ""
        status.collection = collection
        status.version = active
        status.latestVersion = latest
        status.activated = latest > 0 && active == latest
        status.feedbackBuffered = store.feedbackRecords
        status.config = LearnLimits.resolved(store.config)
        if latest == 0 {
            status.note = "no model trained yet: searches use the plain HNSW order"
        } else if active == 0 {
            status.note = "model \(latest) did not beat the plain HNSW order on the hold-out and was not activated: searches use the plain HNSW order"
        } else if latest > active {
            status.note = "model \(latest) did not beat the plain HNSW order on the hold-out and was not activated: model \(active) ranks searches"
        } else {
            status.note = ""
        }
        if !refusal.isEmpty { status.note += " (\(refusal))" }
        return status
    }
}
