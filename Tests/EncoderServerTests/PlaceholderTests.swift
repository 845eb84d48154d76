import XCTest
import HummingbirdTesting
@testable import EncoderServer
