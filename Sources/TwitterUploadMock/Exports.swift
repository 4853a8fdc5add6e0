// The public API is this module's own types plus these, re-exported one by one from the
// layers below, so `import TwitterUploadMock` is all a test needs and nothing else leaks.
@_exported public import struct UploadMockAuth.AuthSettings
@_exported public import struct UploadMockAuth.AuthUser
@_exported public import enum UploadMockChaos.Delay
@_exported public import struct UploadMockChaos.FaultAction
@_exported public import class UploadMockChaos.FaultInjector
@_exported public import struct UploadMockChaos.FaultRule
@_exported public import struct UploadMockChaos.RateLimitRule
@_exported public import class UploadMockChaos.RateLimiter
@_exported public import struct UploadMockChaos.RequestMatch
@_exported public import enum UploadMockDomain.ClockError
@_exported public import struct UploadMockDomain.ProcessingError
@_exported public import struct UploadMockDomain.SegmentAttempt
@_exported public import struct UploadMockDomain.SubtitleTrack
@_exported public import enum UploadMockDomain.UploadAPI
@_exported public import struct UploadMockDomain.ProcessingSimulation
@_exported public import enum UploadMockDomain.UploadCommand
@_exported public import struct UploadMockDomain.UploadLimits
@_exported public import struct UploadMockDomain.UploadReport
@_exported public import struct UploadMockDomain.UploadSettings
@_exported public import enum UploadMockDomain.UploadState
@_exported public import struct UploadMockJSON.ConfigurationError
@_exported public import struct UploadMockChaos.Scenario
