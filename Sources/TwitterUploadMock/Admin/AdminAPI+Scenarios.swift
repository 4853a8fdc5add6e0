import UploadMockChaos
import UploadMockHTTP
import UploadMockJSON

extension AdminAPI {
    /// `GET /__admin/scenarios`, `POST` and `DELETE /__admin/scenarios/{name}` (docs/faults.md,
    /// Scenarios). Within a scope, a scenario is installed for that credential's requests alone,
    /// and removed, or listed as installed, from that scope alone.
    func scenarios(_ action: AdminRoute.ScenarioAction, name: String, scope: String?) -> HTTPReply {
        switch action {
        case .list:
            let installed = application.installedScenarios(in: scope)
            return Self.json(200, .object(["scenarios": .array(application.scenarios.scenarios.map { scenario in
                var object = scenario.json.objectOrEmpty
                object["installed"] = .bool(installed.contains(scenario.name))
                return .object(object)
            })]))
        case .install:
            do {
                return Self.json(201, try application.installScenario(name, in: scope).json)
            } catch {
                return Self.refusal(error)
            }
        case .remove:
            do {
                try application.removeScenario(name, in: scope)
            } catch {
                return Self.refusal(error)
            }
            return HTTPReply(status: 204)
        }
    }

    private static func refusal(_ error: ScenarioError) -> HTTPReply {
        switch error {
        case .unknown: notFound(error.description)
        case .tooManyRules: json(409, .object(["error": .string(error.description)]))
        case .unusable: badRequest(error.description)
        }
    }
}

extension InstalledScenario {
    /// What `POST /__admin/scenarios/{name}` answers: the scenario and the rules now in force,
    /// with their ids.
    var json: JSONValue {
        .object(["name": .string(scenario.name), "description": .string(scenario.description),
                 "scope": scope.map { .string($0) } ?? .null,
                 "faults": .array(faults.map(\.json)), "rate_limits": .array(rateLimits.map(\.json))])
    }
}
